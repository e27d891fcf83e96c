//go:build !linux

package cmd

// platformReliabilityTests are none here: the tests of reliability_linux_test.go
// watch processes through Linux's /proc.
var platformReliabilityTests []reliabilityTest
