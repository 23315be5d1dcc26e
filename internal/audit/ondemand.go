package audit

import (
	"context"
	"time"

	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/pricing"
)

// onDemandBudget bounds the on-demand lookup: a few dozen distinct rates, each one query, take seconds; a price list
// that does not answer must not eat the time kept for delivery. Under a deadline it takes at most a quarter of what
// is left.
const onDemandBudget = 30 * time.Second

// priceOnDemand puts on each commitment finding of fan what its capacity would cost on demand (settings' OnDemand,
// -on-demand), once per run: Finish calls it for a single run and for a distributed run's report step alike, with
// the function's own credentials. It returns the run's warning when the price list could not be read; the run goes on
// either way, and each finding it left unpriced says why.
func (j *Job) priceOnDemand(ctx context.Context, fan *crossaccount.Result) string {
	if !j.s.OnDemand {
		return ""
	}
	budget := onDemandBudget
	if deadline, ok := ctx.Deadline(); ok {
		budget = min(budget, time.Until(deadline)/4)
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	partitions := make(map[string]string, len(fan.Accounts))
	for _, a := range fan.Accounts {
		partitions[a.ID] = a.Partition
	}
	warning := pricing.Apply(ctx, pricing.NewFromConfig(j.cfg), fan.Findings, pricing.Options{
		PartitionOf: func(id string) string { return partitions[id] }, Concurrency: min(j.s.Concurrency, 8)})
	if warning != "" {
		j.log.WarnContext(ctx, "on-demand rates not read", "warning", warning)
	}
	return warning
}
