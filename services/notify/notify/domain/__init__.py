"""The notify domain: plain Python, no I/O, no nameko.

What to say (``messages``), to whom and through which channel
(``preferences``), when (``schedule``), the calendar invitation
(``invitation``), and the chat bot's parser and answers (``bot``).
"""
