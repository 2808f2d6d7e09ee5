"""Test doubles (tests and drills only): object storage, payment providers, a recording network, hostile files."""
