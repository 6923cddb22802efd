"""The embedded local environment: the production configuration of this project on one machine.

A real PostgreSQL from a pip wheel, moto in server mode for SQS/S3/Secrets Manager/CloudWatch,
and the Airflow components as supervised processes; no Docker and no AWS account. One module per
component: ``postgres``, ``aws_emulator``, ``secrets``, ``environment``, ``components``,
``supervisor`` (the process that runs them), ``health`` and ``control`` (what ``ecsflow local`` calls).
"""
