"""``traindex filter``: drop opted-out rows from a dataset, keeping its format and columns.

``deciders`` says which rows go (registry claims, live signals), ``formats`` copies a file
minus those rows, ``run`` walks the inputs, resumes, logs and summarises.
"""
