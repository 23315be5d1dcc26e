package mototest

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// ServiceEndpoints maps SDK service ids ("STS", "Organizations", "Service Catalog", "CloudFormation", "EC2", "RDS",
// "SNS", "S3") to endpoint URLs. It is the programmatic twin of AWS_ENDPOINT_URL_<SERVICE>: every client built from
// a config carrying it, including those the checks build per account, resolves its endpoint through it.
type ServiceEndpoints map[string]string

// GetServiceBaseEndpoint is the SDK's config-source hook for service-specific endpoints.
func (e ServiceEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	u, ok := e[sdkID]
	return u, ok, nil
}

// WithServiceEndpoints returns cfg with the endpoints taking precedence over its other sources.
func WithServiceEndpoints(cfg aws.Config, e ServiceEndpoints) aws.Config {
	cfg.ConfigSources = append([]interface{}{e}, cfg.ConfigSources...)
	return cfg
}
