"""The official ONNX checker as the cross-check scripts report it: one place for the call and
its verdict line, so every script judges a model's validity the same way."""
import onnx


def check(model):
    """Runs onnx.checker with the full check (shape inference included) on a loaded model.
    Returns the verdict text for the report line and whether the model passed."""
    try:
        onnx.checker.check_model(model, full_check=True)
        return "checker ok", True
    except Exception as e:  # the checker raises several exception types; report any of them
        return f"checker FAIL: {e}", False
