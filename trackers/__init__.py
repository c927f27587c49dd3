"""Knowledge of models: the pure rules (rubric, policy, events) and the pipeline that feeds them."""
