"""Reports: a session's figures and the chain's sales by day, cinema and movie."""
