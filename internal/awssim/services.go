package awssim

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// A simulated service lives in one file that registers, in its init, everything the simulator knows of it: its wire
// protocol and its own throttling and refusal answers (registerService), each operation with its IAM action and
// handler (registerOperation, or registerOperationOn when the action acts on a resource the request names), and what
// the demo and the generated organizations hold of it (registerDemo, registerGenerated; its expected findings go into
// DemoFindings there too). The server dispatches every request through this one registry, by the SigV4 signing name,
// so authentication, the call counts, IAM enforcement and the fault seam hold for every service alike. Adding a
// service edits no other file of the simulator but scenario.go, for its data on Region or Account.

// service is one simulated AWS service as its file registers it.
type service struct {
	name     string // the SigV4 signing name, which is also Call.Service
	protocol protocol
	// throttle is its own throttling answer, with the HTTP status its model's error traits or its API reference give.
	throttle Fault
	ops      map[string]operation
}

// operation is one operation of a service: its handler and the IAM actions a call needs.
type operation struct {
	handler handler
	// iam is the IAM action a call needs and the resource it acts on; an empty action needs no permission.
	iam iamAction
	// also are further actions a call needs, each on its own resource: SES's SendEmail with raw content is
	// ses:SendEmail and ses:SendRawEmail on the sending identity.
	also []iamAction
	// reach, if set, fills in what a call reaches beyond its caller, before it is counted: Call.Target, the account
	// an AssumeRole reaches into, or Call.Resource, the one resource an intercept tells calls apart by.
	reach func(r *request)
}

// iamAction names the IAM action a request needs and the resource it acts on.
type iamAction func(r *request) (action, resource string)

// services are the registered services by signing name. Written only by the files' init functions, read after.
var services = map[string]*service{}

// registerService declares a service the simulator answers: p says how it speaks (and whether it is global), throttle
// is its own throttling answer.
func registerService(name string, p protocol, throttle Fault) {
	if _, dup := services[name]; dup {
		panic("awssim: service " + name + " registered twice")
	}
	services[name] = &service{name: name, protocol: p, throttle: throttle, ops: map[string]operation{}}
}

// registerOperation declares one read operation of a registered service: the IAM action it needs (on any resource,
// as every List and Describe a check calls) and its handler.
func registerOperation(service, op, action string, h handler) {
	registerOperationOn(service, op, anyResource(action), h)
}

// registerOperationOn declares one operation of a registered service whose IAM action acts on a resource the request
// names (or, with an empty action, needs none), with any further actions it needs.
func registerOperationOn(name, op string, iam iamAction, h handler, also ...iamAction) {
	svc, ok := services[name]
	if !ok {
		panic(fmt.Sprintf("awssim: operation %s.%s of a service not registered", name, op))
	}
	if _, dup := svc.ops[op]; dup {
		panic("awssim: operation " + name + "." + op + " registered twice")
	}
	svc.ops[op] = operation{handler: h, iam: iam, also: also}
}

// registerReach declares what calls of a registered operation reach beyond their caller (see operation.reach).
func registerReach(name, op string, reach func(r *request)) {
	o, ok := operationOf(name, op)
	if !ok {
		panic(fmt.Sprintf("awssim: reach of %s.%s, an operation not registered", name, op))
	}
	o.reach = reach
	services[name].ops[op] = o
}

// protocolOf is how a registered service speaks; the zero protocol (query, AWS's common errors) for a name no file
// registered.
func protocolOf(name string) protocol {
	if svc, ok := services[name]; ok {
		return svc.protocol
	}
	return protocol{}
}

// throttleOf is a registered service's own throttling answer.
func throttleOf(name string) Fault {
	if svc, ok := services[name]; ok {
		return svc.throttle
	}
	return Fault{}
}

// operationOf finds a registered operation.
func operationOf(name, op string) (operation, bool) {
	svc, ok := services[name]
	if !ok {
		return operation{}, false
	}
	o, ok := svc.ops[op]
	return o, ok
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
