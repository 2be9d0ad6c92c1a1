"""The policy FAQ: the store staff edit (``store``), the learned ranker (``ranker``), its calibrated
decision (``decision``) and the search the actions call (``search``)."""
