//go:build !lambda.norpc

package main

// The simulated organization's commands are in every build but the Lambda function's (-tags lambda.norpc, as
// deploy/package builds it): the function never runs them, and its artifact then links neither internal/awssim nor
// the templates the simulator enforces.
func init() {
	simulatorCommands = map[string]command{"demo": demoCommand, "simulate": simulateCommand}
}
