namespace wardsync::hardware {}
