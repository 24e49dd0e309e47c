// Placeholder: tests are added with the target.
