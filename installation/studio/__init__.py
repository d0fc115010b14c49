"""The artist's studio: contact sheets of seeds, and (in cli/) keeping favourites in a seed bank.

Everything here works on a generator object; which plugin or checkpoint it came from is the
CLI's business (``installation seeds ...``).  See docs/studio.md.
"""
