//! Datasets: annotation lists, class indexes and clip samplers.
