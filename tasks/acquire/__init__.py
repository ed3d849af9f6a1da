"""Getting pages in: SOURCE arguments to document keys, files and URLs to bytes, bytes to text.

Everything a run must know about where a page came from and how it was sent, before
the cleaner sees its text.
"""
