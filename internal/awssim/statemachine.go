package awssim

import "fmt"

// StateMachineDefinition resolves the management template's state machine definition (the distributed mode's) with
// the deployment's parameters, as CloudFormation would: the very text Step Functions runs. The moto test runs it on
// moto's interpreter; deploy/cloudformation's moto test holds it equal to what moto's CloudFormation resolves.
func StateMachineDefinition(org *Organization, d Deployment) (string, error) {
	t, err := parseDeployed(org, d, "management.yaml", d.Management, d.ManagementParameters, false)
	if err != nil {
		return "", err
	}
	t.physical = physicalIDs(org, d)
	ids, err := t.resourcesOfType("AWS::StepFunctions::StateMachine")
	if err != nil {
		return "", err
	}
	if len(ids) != 1 {
		return "", fmt.Errorf("management.yaml: %d state machines in this deployment (Mode %q), want one", len(ids), d.ManagementParameters["Mode"])
	}
	v, err := t.property(ids[0], "DefinitionString")
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("management.yaml: %s has no DefinitionString the simulator can read", ids[0])
	}
	return s, nil
}
