package config

// Pricing is what a run looks up beside the audit: the public on-demand rates of the expiring reservations
// (internal/pricing), asked of the AWS Price List Query API with the function's own credentials. It has no Validate:
// its one setting is a boolean, which FromEnv and the event's strict decoding already refuse when malformed.
type Pricing struct {
	// OnDemand reads each expiring EC2 and RDS reservation's on-demand rate (pricing:GetProducts, which the
	// management template grants only with OnDemandRates=true) and reports what its capacity would cost on demand
	// and what lapsing would add per month. Off by default: one more service to call and to grant.
	OnDemand bool
}
