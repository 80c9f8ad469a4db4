//! The check that a model's classes are the dataset's classes, in the same order: a model
//! whose output column 3 means `wave` scored against a list where label 3 means `jump` would
//! report nonsense accuracy without any error.

/// How a model's classes differ from a dataset's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelMismatch {
    #[error(
        "the model has {model} classes, the dataset {dataset} (only in the model: {only_model:?}; only in the dataset: {only_dataset:?})"
    )]
    Count { model: usize, dataset: usize, only_model: Vec<String>, only_dataset: Vec<String> },
    #[error("class {index} is {model:?} in the model and {dataset:?} in the dataset{}", if *.reordered { " (same names, another order)" } else { "" })]
    Differ { index: usize, model: String, dataset: String, reordered: bool },
}

/// Compares the model card's labels with the dataset's class names (index = label) and names
/// the first difference.
pub fn check_labels(model: &[String], dataset: &[String]) -> Result<(), LabelMismatch> {
    if model.len() != dataset.len() {
        let only = |a: &[String], b: &[String]| a.iter().filter(|x| !b.contains(x)).cloned().collect();
        return Err(LabelMismatch::Count {
            model: model.len(),
            dataset: dataset.len(),
            only_model: only(model, dataset),
            only_dataset: only(dataset, model),
        });
    }
    if let Some(i) = (0..model.len()).find(|&i| model[i] != dataset[i]) {
        return Err(LabelMismatch::Differ {
            index: i,
            model: model[i].clone(),
            dataset: dataset[i].clone(),
            reordered: dataset.contains(&model[i]),
        });
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
        let e = check_labels(&v(&["a", "b", "c"]), &v(&["a", "b"])).unwrap_err().to_string();
        assert!(e.contains("3 classes, the dataset 2") && e.contains("[\"c\"]"), "{e}");
        let e = check_labels(&v(&["a", "b"]), &v(&["b", "a"])).unwrap_err();
        assert!(matches!(e, LabelMismatch::Differ { index: 0, reordered: true, .. }), "{e}");
        let e = e.to_string();
        assert!(e.contains("class 0 is \"a\"") && e.contains("another order"), "{e}");
        let e = check_labels(&v(&["a", "x"]), &v(&["a", "b"])).unwrap_err().to_string();
        assert!(e.contains("class 1 is \"x\"") && !e.contains("order"), "{e}");
    }
}
