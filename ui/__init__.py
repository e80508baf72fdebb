"""Page parts bigger than a helper: each module draws one component and returns what the user
chose (the demo-self-driving pattern). Shared helpers stay in `lab_ui`."""
