"""The names of the stack's CloudFormation outputs: one owner for two readers.

cdk/stack.py (`SalesPipelineStack._outputs`) writes an output under each name, and
`twin smoke` (local_twin/smoke.py) finds the deployed resources by the same names, so
a rename here reaches both, and a name the stack stops writing shows up as a "missing
output" in the smoke instead of a confusing error halfway through. Plain strings only,
no CDK import: the twin reads this module without loading aws-cdk-lib.
"""

from __future__ import annotations

RAW_BUCKET = "RawBucketName"
LAKE_BUCKET = "LakeBucketName"
STATE_MACHINE = "StateMachineArn"
NOTIFICATION_TOPIC = "NotificationTopicArn"
OBJECT_EVENTS_RULE = "ObjectEventsRuleName"
OBJECT_EVENTS_QUEUE = "ObjectEventsQueueUrl"
DEAD_LETTER_QUEUE = "DeadLetterQueueUrl"
TRIGGER_LOG_GROUP = "TriggerLogGroupName"
GLUE_JOB = "GlueJobName"
OBJECT_LEDGER_TABLE = "ObjectLedgerTableName"
SNOWFLAKE_ROLE = "SnowflakeRoleArn"
SNOWFLAKE_PRIVATE_KEY_SECRET = "SnowflakePrivateKeySecretArn"
DASHBOARD = "DashboardName"

# Every output the stack writes, in the order `cdk deploy` prints them.
ALL = (
    RAW_BUCKET,
    LAKE_BUCKET,
    STATE_MACHINE,
    NOTIFICATION_TOPIC,
    OBJECT_EVENTS_RULE,
    OBJECT_EVENTS_QUEUE,
    DEAD_LETTER_QUEUE,
    TRIGGER_LOG_GROUP,
    GLUE_JOB,
    OBJECT_LEDGER_TABLE,
    SNOWFLAKE_ROLE,
    SNOWFLAKE_PRIVATE_KEY_SECRET,
    DASHBOARD,
)

# Written only when the streaming part is deployed (the s3SinkPlugin* keys of cdk.json),
# so they are not in ALL, which every stack writes and `twin smoke` may require.
STREAMING_BOOTSTRAP_SERVERS = "StreamingBootstrapServers"  # MSK Serverless, IAM auth, :9098
STREAMING_TOPIC = "StreamingTopicName"
STREAMING_PRODUCER_POLICY = "StreamingProducerPolicyArn"
STREAMING_PRODUCER_SECURITY_GROUP = "StreamingProducerSecurityGroupId"

STREAMING = (
    STREAMING_BOOTSTRAP_SERVERS,
    STREAMING_TOPIC,
    STREAMING_PRODUCER_POLICY,
    STREAMING_PRODUCER_SECURITY_GROUP,
)
