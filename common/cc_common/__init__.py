"""Code every process of the customer center needs, kept once: errors, tokens, revocation,
gRPC server and client plumbing, database helpers."""
