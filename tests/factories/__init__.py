"""factory_boy factories of every app's models, for tests, drills and the benchmarks' seeding only."""
