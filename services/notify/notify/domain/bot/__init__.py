"""The chat bot, shared by every front (slash commands, Teams, Matrix):
``parser`` turns a message into a question, ``answers`` words the reply,
``conversation`` ties them to the directory, presence and rooms through a
port the service provides. No I/O here."""
