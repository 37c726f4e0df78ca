"""Turning text into tokens and tokens into answers: tokenizer, BM25 index, composer, digests."""
