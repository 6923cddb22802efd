"""AWS CDK app of the project: Apache Airflow 3 on Amazon ECS Fargate, one module per component.

`cdk synth` runs ``infrastructure/app.py`` (see ``cdk.json``); tests and the cost estimate call
:func:`infrastructure.synth.synthesize`. Every value comes from the project's config model
(``deploy_airflow_on_ecs_fargate.config``).
"""

import os

# jsii prints a Node 20 end-of-life banner on every run; Node 20 is what these machines have.
# Set before anything imports aws_cdk (jsii reads it when its runtime starts).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
