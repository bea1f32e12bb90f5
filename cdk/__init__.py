"""AWS CDK app of the sales pipeline: one construct module per architecture box."""
