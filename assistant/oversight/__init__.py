"""The operator's view of stored conversations (issue 12): statistics, a filtered turn list, a streamed
export, retention, user-id hashing and eval items made from real turns.

Each concern is its own module; this package imports none of them, so `assistant.store` can import
`assistant.oversight.derive` (which it needs on every reply) without pulling in the rest.
"""
