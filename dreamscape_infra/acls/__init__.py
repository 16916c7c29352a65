"""ACLs as code: the bindings each declared service needs, planned and applied like topics."""
