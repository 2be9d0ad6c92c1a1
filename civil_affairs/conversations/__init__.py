"""A resident's conversation across channels: the conversation service both channels share, the Rasa
client, masked transcripts, emergencies, handoffs to staff and what they see, and delivery of staff
replies back to Telegram or the web chat."""
