"""``python -m harness.lmeval`` prints the shipped task directory, for ``lm_eval --include_path``."""

from harness.lmeval import tasks_dir

if __name__ == "__main__":
    print(tasks_dir())
