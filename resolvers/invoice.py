"""Invoice mutations (staff): create, update, send, void."""
