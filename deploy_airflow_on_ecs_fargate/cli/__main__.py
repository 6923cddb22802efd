from deploy_airflow_on_ecs_fargate.cli.main import app

app(prog_name="ecsflow")
