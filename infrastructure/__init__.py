"""AWS CDK app of the project: Apache Airflow 3 on Amazon ECS Fargate, one module per component.

`cdk synth` runs ``infrastructure/app.py`` (see ``cdk.json``); tests and the cost estimate call
:func:`infrastructure.synth.synthesize`. Every value comes from the project's config model
(``deploy_airflow_on_ecs_fargate.config``).
"""
