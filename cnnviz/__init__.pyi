# The one list of cnnviz's public names. At run time lazy_loader reads the
# imports below (cnnviz/__init__.py) to build __all__, dir(cnnviz) and the lazy
# look-ups; type checkers read them as the package's interface. Each name is
# re-exported with ``as`` (PEP 484), so no second list is needed.
# A new public name goes here, on docs/api.rst, and tests/test_api.py checks both.

__version__: str

# A public submodule (the first line) is called through: cnnviz.explorer.export.
from . import explorer as explorer
from .activations import layer_outputs as layer_outputs
from .attribution import data_randomization_check as data_randomization_check
from .attribution import deletion_curve as deletion_curve
from .attribution import grad_cam as grad_cam
from .attribution import gradients as gradients
from .attribution import insertion_curve as insertion_curve
from .attribution import integrated_gradients as integrated_gradients
from .attribution import occlusion as occlusion
from .attribution import randomization_check as randomization_check
from .attribution import smoothgrad as smoothgrad
from .channels import channel_ablation as channel_ablation
from .channels import class_mean_activations as class_mean_activations
from .channels import kernels as kernels
from .channels import maximize_activation as maximize_activation
from .channels import receptive_box as receptive_box
from .channels import receptive_field as receptive_field
from .channels import top_patches as top_patches
from .compare import cka as cka
from .compare import layer_similarity as layer_similarity
from .compare import match_channels as match_channels
from .data import CLASS_NAMES as CLASS_NAMES
from .data import find_fashion_mnist as find_fashion_mnist
from .data import load_fashion_mnist as load_fashion_mnist
from .data import one_hot as one_hot
from .data import parse_idx as parse_idx
from .data import read_idx as read_idx
from .data import scale_images as scale_images
from .evaluation import confusion_matrix as confusion_matrix
from .evaluation import evaluate as evaluate
from .evaluation import misclassified as misclassified
from .evaluation import predict as predict
from .layers import Padding2D as Padding2D
from .models import PADDINGS as PADDINGS
from .models import lenet5 as lenet5
from .models import output_size as output_size
from .models import same_padding as same_padding
from .plotting import channel_grid as channel_grid
from .plotting import plot_ablation as plot_ablation
from .plotting import plot_attribution as plot_attribution
from .plotting import plot_class_activations as plot_class_activations
from .plotting import plot_confusion_matrix as plot_confusion_matrix
from .plotting import plot_deletion as plot_deletion
from .plotting import plot_equivariance as plot_equivariance
from .plotting import plot_feature_maps as plot_feature_maps
from .plotting import plot_history as plot_history
from .plotting import plot_images as plot_images
from .plotting import plot_kernels as plot_kernels
from .plotting import plot_layer_outputs as plot_layer_outputs
from .plotting import plot_matched_channels as plot_matched_channels
from .plotting import plot_mistakes as plot_mistakes
from .plotting import plot_pixel_paths as plot_pixel_paths
from .plotting import plot_probabilities as plot_probabilities
from .plotting import plot_randomization as plot_randomization
from .plotting import plot_receptive_field as plot_receptive_field
from .plotting import plot_shift_accuracy as plot_shift_accuracy
from .plotting import plot_side_by_side as plot_side_by_side
from .plotting import plot_similarity as plot_similarity
from .plotting import plot_top_patches as plot_top_patches
from .shifts import equivariance as equivariance
from .shifts import pixel_paths as pixel_paths
from .shifts import shift_accuracy as shift_accuracy
from .shifts import shift_consistency as shift_consistency
from .shifts import shift_images as shift_images
from .training import cache_path as cache_path
from .training import train as train
from .training import trained_lenet5 as trained_lenet5
