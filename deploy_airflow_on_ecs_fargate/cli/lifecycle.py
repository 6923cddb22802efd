"""Registers the AWS lifecycle commands (bootstrap, deploy, run-task, exec, scale, status, logs, url, config).

Every module named here imports only typer/rich/stdlib at module level; boto3 and the config
model are imported inside the commands, so `ecsflow --help` stays fast.
"""

from __future__ import annotations

import typer

from deploy_airflow_on_ecs_fargate.cli import bootstrap, config_commands, deploy, logs, run_task, scale, status
from deploy_airflow_on_ecs_fargate.cli import exec as exec_module

# `scale api-server -1` must reach our check ("count must be 0 or more"), not click's "no such option".
_NEGATIVE_NUMBERS_AS_ARGUMENTS = {"ignore_unknown_options": True}


def register(app: typer.Typer) -> None:
    app.command("bootstrap", rich_help_panel="AWS")(bootstrap.bootstrap_command)
    app.command("deploy", rich_help_panel="AWS")(deploy.deploy_command)
    app.command("diff", rich_help_panel="AWS")(deploy.diff_command)
    app.command("synth", rich_help_panel="AWS")(deploy.synth_command)
    app.command("destroy", rich_help_panel="AWS")(deploy.destroy_command)
    app.command("run-task", rich_help_panel="AWS")(run_task.run_task_command)
    app.add_typer(run_task.db_app, name="db", rich_help_panel="AWS")
    app.add_typer(run_task.users_app, name="users", rich_help_panel="AWS")
    app.command("exec", rich_help_panel="AWS")(exec_module.exec_command)
    app.command("scale", rich_help_panel="AWS", context_settings=_NEGATIVE_NUMBERS_AS_ARGUMENTS)(scale.scale_command)
    app.command("status", rich_help_panel="AWS")(status.status_command)
    app.command("logs", rich_help_panel="AWS")(logs.logs_command)
    app.command("url", rich_help_panel="AWS")(status.url_command)
    app.add_typer(config_commands.app, name="config")
