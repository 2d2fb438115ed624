"""Download the images of a release's rows from their URLs and fingerprint them on the fly."""
