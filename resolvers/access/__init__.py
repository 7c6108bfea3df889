"""Portal access and account self-service, one module per operation group."""
