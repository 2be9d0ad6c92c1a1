"""Shared domain package of the 民政便民服务机器人: used by the actions, the bot and the console."""
