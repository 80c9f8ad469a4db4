//! The check that a model's classes are the dataset's classes, in the same order: a model
//! whose output column 3 means `wave` scored against a list where label 3 means `jump` would
//! report nonsense accuracy without any error.

/// Compares the model card's labels with the dataset's class names (index = label) and names
/// the first difference.
pub fn check_labels(model: &[String], dataset: &[String]) -> Result<(), String> {
    if model.len() != dataset.len() {
        let only_model: Vec<&str> = model.iter().filter(|m| !dataset.contains(m)).map(String::as_str).collect();
        let only_data: Vec<&str> = dataset.iter().filter(|d| !model.contains(d)).map(String::as_str).collect();
        return Err(format!(
            "the model has {} classes, the dataset {} (only in the model: {only_model:?}; only in the dataset: {only_data:?})",
            model.len(),
            dataset.len()
        ));
    }
    if let Some(i) = (0..model.len()).find(|&i| model[i] != dataset[i]) {
        let hint = if dataset.contains(&model[i]) { " (same names, another order)" } else { "" };
        return Err(format!("class {i} is {:?} in the model and {:?} in the dataset{hint}", model[i], dataset[i]));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn differences_are_named() {
        assert!(check_labels(&v(&["a", "b"]), &v(&["a", "b"])).is_ok());
        let e = check_labels(&v(&["a", "b", "c"]), &v(&["a", "b"])).unwrap_err();
        assert!(e.contains("3 classes, the dataset 2") && e.contains("[\"c\"]"), "{e}");
        let e = check_labels(&v(&["a", "b"]), &v(&["b", "a"])).unwrap_err();
        assert!(e.contains("class 0 is \"a\"") && e.contains("another order"), "{e}");
        let e = check_labels(&v(&["a", "x"]), &v(&["a", "b"])).unwrap_err();
        assert!(e.contains("class 1 is \"x\"") && !e.contains("order"), "{e}");
    }
}
