//go:build !unix

package main

import "os/exec"

// asNobody is never called here: os.Geteuid is -1 on these systems, so
// runAsUnprivileged runs the command as the user running the tests.
func asNobody(*exec.Cmd) {}
