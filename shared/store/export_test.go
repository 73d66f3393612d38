package store

// TestTLSConfigs exposes the test CA's configurations to store_test.
var TestTLSConfigs = testTLS
