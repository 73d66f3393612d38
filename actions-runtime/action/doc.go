// Package action names what an action version runs (Code) and the
// Runner contract between the Management API, which checks code at
// upload and test-runs it, and the node-side executor that implements it.
// It holds no logic of its own beyond classifying runtimes, so the
// control plane and the executor depend on it, never on each other.
package action
