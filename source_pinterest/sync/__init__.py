"""One sync's machinery: the concurrent read, what streams share (context, parent listings), state and saved
state, progress lines and failure messages."""
