package awssim

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// A simulated service lives in one file that registers, in its init, everything the simulator knows of it: its wire
// protocol and its own throttling and refusal answers (registerService), each operation with its IAM action and
// handler (registerOperation), and what the demo and the generated organizations hold of it (registerDemo,
// registerGenerated; its expected findings go into DemoFindings there too). Adding a service edits no other file of
// the simulator but scenario.go, for its data on Region or Account.

// registerService declares a service the simulator answers: p says how it speaks (and whether it is global), throttle
// is its own throttling answer, with the HTTP status its model's error traits or its API reference give.
func registerService(name string, p protocol, throttle Fault) {
	if _, dup := protocols[name]; dup {
		panic("awssim: service " + name + " registered twice")
	}
	protocols[name] = p
	throttleCodes[name] = throttle
}

// registerOperation declares one read operation of a registered service: the IAM action it needs (on any resource,
// as every List and Describe a check calls) and its handler.
func registerOperation(service, op, action string, h handler) {
	key := service + "." + op
	if _, dup := handlers[key]; dup {
		panic("awssim: operation " + key + " registered twice")
	}
	if _, ok := protocols[service]; !ok {
		panic(fmt.Sprintf("awssim: operation %s of a service not registered", key))
	}
	iamActions[key] = anyResource(action)
	register(service, op, h)
}

// demoData are the services' additions to Demo, applied in the order their files' init functions run (file name
// order). day(n) is noon UTC n calendar days after the as-of date.
var demoData []func(org *Organization, day func(n int) time.Time)

// registerDemo adds what a service's file puts into the demo organization; what it adds that an audit must find goes
// into DemoFindings, from the same init.
func registerDemo(add func(org *Organization, day func(n int) time.Time)) {
	demoData = append(demoData, add)
}

// generatedData are the services' additions to every generated account, each with its own random source (seeded by
// the organization's seed, the account, the region and the service), so adding one changes nothing generated before.
var generatedData []generated

type generated struct {
	service string
	// perAccount adds to the account (a global service's data), once; perRegion to each of its regions,
	// a.Regions[region]. Either may be nil.
	perAccount func(r *rand.Rand, a *Account, day func(n int) time.Time)
	perRegion  func(r *rand.Rand, a *Account, region string, day func(n int) time.Time)
}

// registerGenerated adds what a service holds in each generated account.
func registerGenerated(g generated) { generatedData = append(generatedData, g) }
