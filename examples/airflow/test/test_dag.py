"""The DAG file, parsed with a STAND-IN `airflow` package (stand_in_airflow/, not Apache Airflow):
its task graph, task options and params, under Airflow 3's imports (airflow.sdk) and Airflow 2's."""

import sys
import unittest

from dag_loader import load_dag


class DagStructure(unittest.TestCase):
    def check(self, major):
        dag, _module = load_dag(major)
        self.assertEqual(dag.dag_id, "fedlearn_training")
        self.assertEqual(dag.task_ids, ["submit_job", "wait_for_job", "gate_and_publish"])
        self.assertEqual(dag.tasks["submit_job"].downstream_task_ids, {"wait_for_job"})
        self.assertEqual(dag.tasks["wait_for_job"].downstream_task_ids, {"gate_and_publish"})
        self.assertEqual(dag.tasks["gate_and_publish"].downstream_task_ids, set())
        sensor = dag.tasks["wait_for_job"]
        self.assertEqual(sensor.kind, "sensor")
        self.assertEqual(sensor.options["mode"], "reschedule")
        self.assertGreater(sensor.options["timeout"], sensor.options["poke_interval"])
        self.assertEqual(dag.tasks["submit_job"].options["retries"], 3)
        self.assertIsNone(dag.options["schedule"])
        self.assertFalse(dag.options["catchup"])
        params = {k: p.value for k, p in dag.params.items()}
        self.assertEqual(
            params,
            {"rounds": 5, "clients": 3, "partition": "iid", "secure_aggregation": False, "model_name": "model", "min_accuracy": 0.0},
        )
        self.assertEqual(dag.params["rounds"].schema, {"type": "integer", "minimum": 1, "maximum": 100_000})
        self.assertEqual(dag.params["secure_aggregation"].schema["type"], "boolean")
        self.assertIn("pattern", dag.params["partition"].schema)

    def test_airflow_3_task_sdk_imports(self):
        self.check("3")
        self.assertIn("airflow.sdk", sys.modules)
        self.assertNotIn("airflow.decorators", sys.modules)

    def test_airflow_2_imports(self):
        self.check("2")
        self.assertNotIn("airflow.sdk", sys.modules)
        self.assertIn("airflow.decorators", sys.modules)
        self.assertIn("airflow.sensors.base", sys.modules)


if __name__ == "__main__":
    unittest.main()
