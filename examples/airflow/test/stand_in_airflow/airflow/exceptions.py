class AirflowException(Exception):
    """Stand-in of airflow.exceptions.AirflowException."""


class AirflowFailException(AirflowException):
    """Stand-in: fail the task without retrying."""
