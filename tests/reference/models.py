#!/usr/bin/python3
"""Small reference CNNs for odlc's end-to-end numerical tests.

Every model takes a 1x3x32x32 float32 NCHW input and returns 1x10 logits.
They are reduced versions of published architectures (built from
torchvision's own building blocks wherever torchvision has them) so that
their weights fit in a microcontroller's flash (<= ~250k parameters each),
while each keeps the structures that define it.

Weights are random but deterministic (fixed seed per model).  BatchNorm
layers get *randomized* running statistics and affine parameters (gamma
|U(0.5, 1.5)| with ~10 % negative, beta N(0, 0.2), running mean/var randomly
perturbed around the calibration data's statistics, see _calibrate) so that
BN folding in the compiler is really exercised.  Conv/Linear weights are
rescaled layer by layer (LSUV-style, Mishkin & Matas 2016, "All you need is a
good init") so that activations keep a sane magnitude through the whole
depth, and the classifier is centred so the logits depend on the input
(_center_classifier).  The calibration batch mixes the same four input kinds
as the probes (sample_inputs).

Use:  import models; m = models.build("resnet")   # eval-mode nn.Module
The registry MODELS also carries the ONNX export settings used by
export_models.py (opset, whether BN nodes must survive export, ...).
"""
import math
from collections import OrderedDict
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F

from torchvision.models.densenet import DenseNet
from torchvision.models.mobilenetv2 import InvertedResidual as MBv2Block
from torchvision.models.mobilenetv3 import InvertedResidualConfig, MobileNetV3
from torchvision.models.resnet import BasicBlock, Bottleneck, conv1x1
from torchvision.models.shufflenetv2 import ShuffleNetV2
from torchvision.models.squeezenet import Fire
from torchvision.ops.misc import Conv2dNormActivation

INPUT_SHAPE = (1, 3, 32, 32)
NUM_CLASSES = 10
MAX_PARAMS = 250_000


# --------------------------------------------------------------------------
# ResNet (CIFAR variant) with ResNet-D downsampling shortcuts.
#   He et al. 2016, "Deep Residual Learning for Image Recognition", Sec. 4.2:
#   6n+2 layers, 3x3 stem with 16 filters, three stages of 2n 3x3 convs with
#   {16, 32, 64} filters on {32x32, 16x16, 8x8} maps, global average pool,
#   10-way FC.  Here n = 2 (ResNet-14).
#   He et al. 2019, "Bag of Tricks for Image Classification with CNNs",
#   Fig. 2(c) (ResNet-D): the downsampling shortcut is AvgPool2d(2, 2)
#   followed by a stride-1 1x1 conv + BN instead of a strided 1x1 conv.
#   Blocks are torchvision's BasicBlock.
# --------------------------------------------------------------------------
class ResNetCifar(nn.Module):
    def __init__(self, n=2, widths=(16, 32, 64), num_classes=NUM_CLASSES):
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        layers = []
        inplanes = widths[0]
        for i, w in enumerate(widths):
            stride = 1 if i == 0 else 2
            blocks = []
            for b in range(n):
                s = stride if b == 0 else 1
                down = None
                if s != 1 or inplanes != w:
                    down = nn.Sequential(
                        nn.AvgPool2d(kernel_size=2, stride=2),  # ResNet-D
                        conv1x1(inplanes, w),
                        nn.BatchNorm2d(w),
                    )
                blocks.append(BasicBlock(inplanes, w, stride=s, downsample=down))
                inplanes = w
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(inplanes, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = self.avgpool(x)
        # flatten written as in the common CIFAR ResNet implementations; with
        # do_constant_folding=False it exports as a shape subgraph + Reshape
        return self.fc(x.view(x.size(0), -1))


# --------------------------------------------------------------------------
# MobileNetV2.  Sandler et al. 2018, "MobileNetV2: Inverted Residuals and
# Linear Bottlenecks", Table 2 (t, c, n, s rows; 3x3 stride-2 stem, 1x1 conv
# to 1280, avgpool, dropout, classifier).  Reduced: stem 32 -> 16, row
# channels 16/24/32/64/96/160 -> 8/16/24/32/48/80 (about half, multiples of
# 8), repeats 1/2/3/4/3/3 -> 1/2/3/3/2/1, the 320 row dropped, last conv
# 1280 -> 320; row strides as in the paper but a stride-1 stem for 32x32
# inputs (total stride 16 -> 2x2 final map).
# Blocks are torchvision's InvertedResidual (ReLU6, linear bottleneck,
# residual add when stride 1 and in == out).
# --------------------------------------------------------------------------
class MobileNetV2Small(nn.Module):
    # t, c, n, s    (Table 2 rows, reduced)
    SETTING = [
        [1, 8, 1, 1],
        [6, 16, 2, 2],
        [6, 24, 3, 2],
        [6, 32, 3, 2],
        [6, 48, 2, 1],
        [6, 80, 1, 2],
    ]

    def __init__(self, num_classes=NUM_CLASSES, stem=16, last_channel=320, dropout=0.2):
        super().__init__()
        norm = nn.BatchNorm2d
        feats = [Conv2dNormActivation(3, stem, kernel_size=3, stride=1, norm_layer=norm,
                                      activation_layer=nn.ReLU6)]
        cin = stem
        for t, c, n, s in self.SETTING:
            for i in range(n):
                feats.append(MBv2Block(cin, c, s if i == 0 else 1, expand_ratio=t, norm_layer=norm))
                cin = c
        feats.append(Conv2dNormActivation(cin, last_channel, kernel_size=1, norm_layer=norm,
                                          activation_layer=nn.ReLU6))
        self.features = nn.Sequential(*feats)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(last_channel, num_classes))

    def forward(self, x):
        x = self.features(x)
        # torchvision MobileNetV2.forward: adaptive_avg_pool2d + torch.flatten
        x = F.adaptive_avg_pool2d(x, (1, 1))
        x = torch.flatten(x, 1)
        return self.classifier(x)


# --------------------------------------------------------------------------
# ShuffleNetV2.  Ma et al. 2018, "ShuffleNet V2: Practical Guidelines for
# Efficient CNN Architecture Design", Table 5 (0.5x column: output channels
# 24 / 48 / 96 / 192 / 1024, repeats 4 / 8 / 4).  Reduced: repeats 2 / 3 / 2,
# conv5 1024 -> 256.  torchvision's ShuffleNetV2 as is (channel split via
# x.chunk(2, dim=1), channel shuffle via view -> transpose -> view, global
# pool via x.mean([2, 3])) except that the stem conv is stride 1 (CIFAR
# adaptation) so the final map is 2x2 instead of 1x1.
# --------------------------------------------------------------------------
def shufflenetv2_small(num_classes=NUM_CLASSES):
    m = ShuffleNetV2(stages_repeats=[2, 3, 2], stages_out_channels=[24, 48, 96, 192, 256],
                     num_classes=num_classes)
    m.conv1 = nn.Sequential(
        nn.Conv2d(3, 24, 3, 1, 1, bias=False),
        nn.BatchNorm2d(24),
        nn.ReLU(inplace=True),
    )
    return m


# --------------------------------------------------------------------------
# MobileNetV3-Small.  Howard et al. 2019, "Searching for MobileNetV3",
# Table 2 (bneck rows: kernel, exp size, #out, SE, NL, stride; h-swish stem;
# 1x1 conv 576; pool; 1x1 "conv NBN" 1024 (Linear in torchvision); classifier).
# Reduced: width multiplier 0.5 (torchvision's _make_divisible(., 8)),
# last 576-row once instead of twice, last_channel 1024 -> 128, first bneck
# stride 2 -> 1 for 32x32 inputs.
# torchvision's MobileNetV3 as is: SE = avgpool -> 1x1 conv -> ReLU ->
# 1x1 conv -> Hardsigmoid -> mul; h-swish activations; BN eps=1e-3;
# classifier Linear -> Hardswish -> Dropout -> Linear.
# --------------------------------------------------------------------------
def mobilenetv3_small(num_classes=NUM_CLASSES, width=0.5, last_channel=128):
    c = partial(InvertedResidualConfig, width_mult=width)
    setting = [
        # in, k, exp, out, SE, NL, s, dilation                      Table 2 row
        c(16, 3, 16, 16, True, "RE", 1, 1),    # 112^2 bneck 3x3 (s=2 in paper)
        c(16, 3, 72, 24, False, "RE", 2, 1),   # 56^2
        c(24, 3, 88, 24, False, "RE", 1, 1),   # 28^2
        c(24, 5, 96, 40, True, "HS", 2, 1),    # 28^2
        c(40, 5, 240, 40, True, "HS", 1, 1),   # 14^2
        c(40, 5, 240, 40, True, "HS", 1, 1),
        c(40, 5, 120, 48, True, "HS", 1, 1),
        c(48, 5, 144, 48, True, "HS", 1, 1),
        c(48, 5, 288, 96, True, "HS", 2, 1),   # 14^2 -> 7^2
        c(96, 5, 576, 96, True, "HS", 1, 1),   # (paper repeats this row twice)
    ]
    return MobileNetV3(setting, last_channel=last_channel, num_classes=num_classes, dropout=0.2)


# --------------------------------------------------------------------------
# MobileNetV3-Large.  Howard et al. 2019, Table 1.  Reduced: width 0.35,
# last 3 bneck rows (160 ch, 5x5, stride 2) dropped, last_channel 1280 -> 256,
# strides: stem 2, then 1/2/2/2 -> 2x2 final map.  Exported at a low opset so
# h-swish appears decomposed (x * HardSigmoid(x)) rather than as HardSwish.
# Early blocks have ReLU and no SE, 5x5 SE blocks with ReLU, 3x3 h-swish
# blocks without SE, then h-swish + SE.
# --------------------------------------------------------------------------
def mobilenetv3_large(num_classes=NUM_CLASSES, width=0.35, last_channel=256):
    c = partial(InvertedResidualConfig, width_mult=width)
    setting = [
        c(16, 3, 16, 16, False, "RE", 1, 1),
        c(16, 3, 64, 24, False, "RE", 1, 1),    # s=2 in paper
        c(24, 3, 72, 24, False, "RE", 1, 1),
        c(24, 5, 72, 40, True, "RE", 2, 1),
        c(40, 5, 120, 40, True, "RE", 1, 1),
        c(40, 5, 120, 40, True, "RE", 1, 1),
        c(40, 3, 240, 80, False, "HS", 2, 1),
        c(80, 3, 200, 80, False, "HS", 1, 1),
        c(80, 3, 184, 80, False, "HS", 1, 1),
        c(80, 3, 184, 80, False, "HS", 1, 1),
        c(80, 3, 480, 112, True, "HS", 2, 1),   # s=1 in paper
        c(112, 3, 672, 112, True, "HS", 1, 1),
    ]
    return MobileNetV3(setting, last_channel=last_channel, num_classes=num_classes, dropout=0.2)


# --------------------------------------------------------------------------
# SqueezeNet 1.1.  Iandola et al. 2016, "SqueezeNet: AlexNet-level accuracy
# with 50x fewer parameters and <0.5MB model size" (Table 1 gives v1.0; v1.1
# is the torchvision / SqueezeNet-repo variant: 3x3/64 stem, max pools after
# conv1, fire3 and fire5, all with ceil_mode=True).  Reduced: every Fire
# width halved (squeeze 8..32, expand 32..128), the last Fire (fire9) dropped,
# stem 3x3/32 with stride 1 and padding 1 for 32x32 inputs.  With those
# sizes (32 -> 16 -> 8 -> 4) ceil_mode changes the output size of all three
# max pools (floor would give 15 / 7 / 3).  No BatchNorm, as in the original.
# Classifier as torchvision: Dropout -> 1x1 conv -> ReLU -> global avg pool
# -> flatten.
# --------------------------------------------------------------------------
class SqueezeNetSmall(nn.Module):
    def __init__(self, num_classes=NUM_CLASSES):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, kernel_size=3, stride=1, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(32, 8, 32, 32),
            Fire(64, 8, 32, 32),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(64, 16, 64, 64),
            Fire(128, 16, 64, 64),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(128, 24, 96, 96),
            Fire(192, 24, 96, 96),
            Fire(192, 32, 128, 128),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.5),
            nn.Conv2d(256, num_classes, kernel_size=1),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d((1, 1)),
        )

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


# --------------------------------------------------------------------------
# ResNeXt.  Xie et al. 2017, "Aggregated Residual Transformations for Deep
# Neural Networks", Table 1 (ResNeXt-50 32x4d template: bottleneck
# 1x1 -> 3x3 grouped conv (cardinality C) -> 1x1, x4 expansion, projection
# shortcut on stage change) and Sec. 5.3 (CIFAR variant: 3x3 stem, three
# stages on 32/16/8 maps).  Reduced: cardinality 8, 2 + 2 + 1 blocks, stage
# outputs 64 / 128 / 256 (torchvision Bottleneck planes 16 / 32 / 64),
# group width 4 / 8 / 16 channels (grouped, not depthwise).
# torchvision Bottleneck as is (stride on the 3x3, strided 1x1 projection).
# --------------------------------------------------------------------------
class ResNeXtSmall(nn.Module):
    def __init__(self, num_classes=NUM_CLASSES, cardinality=8, base_width=16,
                 planes=(16, 32, 64), blocks=(2, 2, 1)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.relu = nn.ReLU(inplace=True)
        inplanes = 32
        stages = []
        for i, (p, nb) in enumerate(zip(planes, blocks)):
            stride = 1 if i == 0 else 2
            layers = []
            for b in range(nb):
                s = stride if b == 0 else 1
                down = None
                if s != 1 or inplanes != p * Bottleneck.expansion:
                    down = nn.Sequential(conv1x1(inplanes, p * Bottleneck.expansion, s),
                                         nn.BatchNorm2d(p * Bottleneck.expansion))
                layers.append(Bottleneck(inplanes, p, s, down, groups=cardinality,
                                         base_width=base_width))
                inplanes = p * Bottleneck.expansion
            stages.append(nn.Sequential(*layers))
        self.layer1, self.layer2, self.layer3 = stages
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(inplanes, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# --------------------------------------------------------------------------
# DenseNet-BC.  Huang et al. 2017, "Densely Connected Convolutional
# Networks", Table 1 / Sec. 3 (dense blocks of BN-ReLU-1x1(4k)-BN-ReLU-3x3(k)
# layers concatenated onto the block input; transitions BN-ReLU-1x1 conv with
# compression 0.5 followed by 2x2 AvgPool2d; ImageNet stem 7x7/2 conv +
# 3x3/2 max pool (padding 1)).  torchvision's DenseNet as is with growth
# k=12, blocks (4, 4, 4), 24 initial features.  Pre-activation BN after a
# Concat cannot be folded into a preceding conv.
# --------------------------------------------------------------------------
def densenet_small(num_classes=NUM_CLASSES):
    return DenseNet(growth_rate=12, block_config=(4, 4, 4), num_init_features=24, bn_size=4,
                    drop_rate=0, num_classes=num_classes)


# --------------------------------------------------------------------------
# ShuffleNet (v1).  Zhang et al. 2018, "ShuffleNet: An Extremely Efficient
# Convolutional Neural Network for Mobile Devices", Fig. 2(b)/(c) units and
# Table 1 (g = 3 column: stage outputs 240 / 480 / 960, repeats 1+3 / 1+7 /
# 1+3, 3x3/2 conv 24 + 3x3/2 max pool stem).  Reduced: width 0.5x
# (120 / 240 / 480), repeats 1+1 / 1+2 / 1+1, stride-1 stem conv for 32x32.
# Unit: 1x1 group conv (g=3; plain conv for the first unit of stage 2, as in
# the paper) -> BN -> ReLU -> channel shuffle -> 3x3 depthwise (stride) -> BN
# -> 1x1 group conv -> BN; stride 1: add identity; stride 2: concat with a
# 3x3/2 AvgPool2d(padding=1) of the input; then ReLU.  Channel shuffle and
# the final x.view(x.size(0), -1) are written as in common implementations.
# --------------------------------------------------------------------------
def _shuffle(x, groups):
    n, c, h, w = x.size()
    x = x.view(n, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(n, -1, h, w)


class ShuffleV1Unit(nn.Module):
    def __init__(self, cin, cout, groups, stride, first_group=True):
        super().__init__()
        self.stride, self.groups = stride, groups
        branch_out = cout - cin if stride == 2 else cout
        mid = cout // 4
        g1 = groups if first_group else 1
        self.gconv1 = nn.Conv2d(cin, mid, 1, groups=g1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.dwconv = nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.gconv2 = nn.Conv2d(mid, branch_out, 1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(branch_out)
        self.shuffle_groups = g1
        self.pool = nn.AvgPool2d(3, stride=2, padding=1) if stride == 2 else None

    def forward(self, x):
        y = F.relu(self.bn1(self.gconv1(x)))
        if self.shuffle_groups > 1:
            y = _shuffle(y, self.shuffle_groups)
        y = self.bn2(self.dwconv(y))
        y = self.bn3(self.gconv2(y))
        if self.stride == 2:
            return F.relu(torch.cat([self.pool(x), y], 1))
        return F.relu(x + y)


class ShuffleNetV1Small(nn.Module):
    def __init__(self, num_classes=NUM_CLASSES, groups=3, widths=(120, 240, 480), repeats=(2, 3, 2)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 24, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        units, cin = [], 24
        for si, (w, r) in enumerate(zip(widths, repeats)):
            for i in range(r):
                units.append(ShuffleV1Unit(cin, w, groups, 2 if i == 0 else 1,
                                           first_group=not (si == 0 and i == 0)))
                cin = w
        self.stages = nn.Sequential(*units)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.stages(x)
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(x.view(x.size(0), -1))


# --------------------------------------------------------------------------
# Res2Net.  Gao et al. 2019, "Res2Net: A New Multi-scale Backbone
# Architecture" (TPAMI), Fig. 2 and Table 1 (Res2Net-50 26w x 4s): the 3x3 of
# a bottleneck is replaced by `scale` groups of width w obtained with
# torch.split; group i (i >= 1) gets the previous group's output added before
# its 3x3 conv; the last group is passed through (or, in the first block of a
# stage, 3x3/s AvgPool2d(padding=1)); groups are concatenated before the
# final 1x1.  Shortcut as in the authors' Res2Net-v1b: AvgPool2d(s, s,
# ceil_mode=True, count_include_pad=False) -> 1x1 conv -> BN.  Reduced CIFAR
# variant: 3x3 stem, stages of planes 16 / 32 / 64 (x4 expansion), one block
# each except two in stage 1, base width 26, scale 4.
# --------------------------------------------------------------------------
class Bottle2neck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, base_width=26, scale=4,
                 stype="normal"):
        super().__init__()
        width = int(math.floor(planes * (base_width / 64.0)))
        self.conv1 = nn.Conv2d(inplanes, width * scale, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width * scale)
        self.nums = scale - 1
        if stype == "stage":
            self.pool = nn.AvgPool2d(kernel_size=3, stride=stride, padding=1)
        self.convs = nn.ModuleList(
            [nn.Conv2d(width, width, 3, stride, 1, bias=False) for _ in range(self.nums)])
        self.bns = nn.ModuleList([nn.BatchNorm2d(width) for _ in range(self.nums)])
        self.conv3 = nn.Conv2d(width * scale, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stype, self.scale, self.width = stype, scale, width

    def forward(self, x):
        residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        spx = torch.split(out, self.width, 1)
        sp = None
        for i in range(self.nums):
            sp = spx[i] if (i == 0 or self.stype == "stage") else sp + spx[i]
            sp = self.relu(self.bns[i](self.convs[i](sp)))
            out = sp if i == 0 else torch.cat((out, sp), 1)
        if self.stype == "normal":
            out = torch.cat((out, spx[self.nums]), 1)
        else:
            out = torch.cat((out, self.pool(spx[self.nums])), 1)
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            residual = self.downsample(x)
        return self.relu(out + residual)


class Res2NetSmall(nn.Module):
    def __init__(self, num_classes=NUM_CLASSES, planes=(16, 32, 64), blocks=(2, 1, 1)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.relu = nn.ReLU(inplace=True)
        inplanes, stages = 32, []
        for si, (p, nb) in enumerate(zip(planes, blocks)):
            stride = 1 if si == 0 else 2
            out = p * Bottle2neck.expansion
            down = nn.Sequential(
                nn.AvgPool2d(stride, stride, ceil_mode=True, count_include_pad=False),
                nn.Conv2d(inplanes, out, 1, bias=False),
                nn.BatchNorm2d(out),
            )
            layers = [Bottle2neck(inplanes, p, stride, down, stype="stage")]
            layers += [Bottle2neck(out, p) for _ in range(nb - 1)]
            stages.append(nn.Sequential(*layers))
            inplanes = out
        self.layer1, self.layer2, self.layer3 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inplanes, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# --------------------------------------------------------------------------
# Registry: builder, seed, export settings and the structures covered.
#   keep_bn: export with training=TrainingMode.PRESERVE (module in eval mode)
#            so the exporter does not fuse Conv+BatchNormalization.
#   fold_constants: torch.onnx.export(do_constant_folding=...).
# --------------------------------------------------------------------------
MODELS = OrderedDict([
    ("resnet", dict(
        source="He et al. 2016 (CIFAR ResNet, Sec. 4.2, n=2) + He et al. 2019 ResNet-D shortcut (Fig. 2c); torchvision BasicBlock",
        build=ResNetCifar, seed=101, opset=11, keep_bn=False, fold_constants=False,
        covers=["residual add", "BatchNorm (fused by exporter)",
                "AvgPool2d 2x2 (ResNet-D shortcut; exported as zero Pad + AveragePool)",
                "global avg pool (AdaptiveAvgPool2d)",
                "view(size(0), -1) flatten as Constant/Unsqueeze(attr)/Concat -> Reshape", "Linear"])),
    ("mobilenetv2", dict(
        source="Sandler et al. 2018, Table 2, reduced; torchvision InvertedResidual",
        build=MobileNetV2Small, seed=202, opset=12, keep_bn=True, fold_constants=True,
        covers=["depthwise conv", "relu6 (Clip)", "residual add", "linear bottleneck",
                "BatchNormalization nodes kept", "Dropout in classifier (eval)", "Flatten + Linear"])),
    ("shufflenetv2", dict(
        source="Ma et al. 2018, Table 5 (0.5x), reduced; torchvision ShuffleNetV2 with stride-1 stem",
        build=shufflenetv2_small, seed=303, opset=13, keep_bn=False, fold_constants=False,
        covers=["channel split (chunk -> Shape/Gather/Add/Div/Mul -> 2x Slice)",
                "channel shuffle (reshape-transpose-reshape)",
                "shape subgraphs (Shape/Gather/Unsqueeze/Concat -> Reshape)", "depthwise conv",
                "concat", "max pool (padding 1)", "global avg pool as ReduceMean", "Linear"])),
    ("mobilenetv3", dict(
        source="Howard et al. 2019, Table 2 (MobileNetV3-Small), width 0.5, reduced; torchvision MobileNetV3",
        build=mobilenetv3_small, seed=404, opset=17, keep_bn=False, fold_constants=True,
        covers=["squeeze-excite (Hardsigmoid, mul)", "hard-swish (HardSwish op)", "depthwise 3x3/5x5",
                "residual add", "BN eps=1e-3", "Dropout in classifier (eval)", "Flatten + Linear"])),
    ("mobilenetv3_large", dict(
        source="Howard et al. 2019, Table 1 (MobileNetV3-Large), width 0.35, reduced; torchvision MobileNetV3",
        build=mobilenetv3_large, seed=505, opset=11, keep_bn=False, fold_constants=True,
        covers=["squeeze-excite (Hardsigmoid, mul)", "hard-swish decomposed (x * HardSigmoid(x))",
                "depthwise 3x3/5x5", "residual add", "SE with ReLU blocks", "Dropout in classifier (eval)"])),
    ("squeezenet", dict(
        source="Iandola et al. 2016, SqueezeNet 1.1 layout, halved widths; torchvision Fire",
        build=SqueezeNetSmall, seed=606, opset=14, keep_bn=False, fold_constants=True,
        covers=["fire modules (concat)", "max pool ceil_mode=True", "conv with bias, no BN",
                "Dropout before conv classifier (eval)", "global avg pool", "Flatten"])),
    ("resnext", dict(
        source="Xie et al. 2017, Table 1 template / Sec. 5.3 CIFAR variant, 8 groups, reduced; torchvision Bottleneck",
        build=ResNeXtSmall, seed=707, opset=15, keep_bn=True, fold_constants=True,
        covers=["grouped conv (non-depthwise, 8 groups)", "bottleneck residual add",
                "strided 1x1 projection shortcut", "BatchNormalization nodes kept", "Flatten + Linear"])),
    ("shufflenetv1", dict(
        source="Zhang et al. 2018, Table 1 (g=3), width 0.5x, reduced",
        build=ShuffleNetV1Small, seed=909, opset=12, keep_bn=False, fold_constants=True,
        covers=["grouped 1x1 conv (g=3)", "channel shuffle with folded constant shapes",
                "depthwise conv", "AvgPool2d 3x3/2 padding 1 shortcut (Pad + AveragePool)",
                "concat", "residual add", "view(size(0), -1) flatten (Reshape)", "Linear"])),
    ("res2net", dict(
        source="Gao et al. 2019, Fig. 2 / Table 1 (26w x 4s), v1b shortcut, reduced",
        build=Res2NetSmall, seed=1010, opset=13, keep_bn=False, fold_constants=True,
        covers=["channel split via torch.split (Split, split as input)", "hierarchical adds",
                "concat", "AvgPool2d 3x3 padding 1 on a split branch",
                "AvgPool2d ceil_mode=True count_include_pad=False shortcut (incl. a 1x1/1 no-op pool)",
                "bottleneck residual add", "Flatten + Linear"])),
    ("densenet", dict(
        source="Huang et al. 2017, DenseNet-BC (Table 1 structure), k=12, blocks (4,4,4); torchvision DenseNet",
        build=densenet_small, seed=808, opset=16, keep_bn=False, fold_constants=True,
        covers=["dense concat", "BatchNormalization nodes after Concat kept even in EVAL export "
                "(pre-activation BN, not foldable into a preceding conv)",
                "AvgPool2d 2x2 transitions", "7x7 stride-2 conv", "max pool with padding",
                "global avg pool", "Flatten + Linear"])),
])

DEFAULT_MODELS = list(MODELS)


# --------------------------------------------------------------------------
# Initialisation
# --------------------------------------------------------------------------
def _randomize(model, gen):
    """Random weights and BN affine parameters; BN running statistics are
    set later by _calibrate (or drawn from the prior for bn_stats="prior")."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            fan_in = m.weight[0].numel()
            m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * math.sqrt(2.0 / fan_in))
            if m.bias is not None:
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
        elif isinstance(m, nn.Linear):
            m.weight.copy_(torch.randn(m.weight.shape, generator=gen) / math.sqrt(m.in_features))
            if m.bias is not None:
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
        elif isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            gamma = 0.5 + torch.rand(c, generator=gen)                       # |gamma| in U(0.5, 1.5)
            sign = torch.where(torch.rand(c, generator=gen) < 0.1, -1.0, 1.0)  # ~10 % negative
            m.weight.copy_(gamma * sign)
            m.bias.copy_(torch.randn(c, generator=gen) * 0.2)
            m.running_mean.zero_()
            m.running_var.fill_(1.0)


def _calibrate(model, calib, gen, bn_stats="data"):
    """One forward pass over the calibration batch (eval mode) that sets up
    each Conv2d / Linear / BatchNorm2d layer when execution reaches it, so
    every layer sees the final version of the layers before it:
      * Conv2d / Linear: rescale weight and bias so the output has std 1
        (LSUV, Mishkin & Matas 2016, "All you need is a good init"); the
        output is rescaled in the hook the same way, which is exact;
      * BatchNorm2d, bn_stats="data": running statistics are the batch's
        per-channel mean / variance of the BN input, *randomly perturbed*:
            running_mean = mean + N(0, s^2) * std,  s ~ U(0.1, 0.5) per layer
            running_var  = var * U(0.5, 2)
        so they look like a trained network's (they remove most of each
        channel's offset, which keeps the output input-dependent through the
        whole depth) while still being far from the identity;
      * bn_stats="prior": running_mean ~ N(0, s^2), running_var ~ U(0.5, 2)
        regardless of the data (the input signal then fades with depth:
        constant channel offsets pile up layer after layer)."""
    done = set()

    def bn_pre(layer, inp):
        if id(layer) in done:
            return
        done.add(id(layer))
        c = layer.num_features
        s = 0.1 + 0.4 * torch.rand(1, generator=gen).item()
        noise = torch.randn(c, generator=gen) * s
        factor = 0.5 + 1.5 * torch.rand(c, generator=gen)
        if bn_stats == "data":
            x = inp[0]
            mean = x.mean((0, 2, 3))
            var = x.var((0, 2, 3), unbiased=False)
            # a channel that hardly moves on the calibration batch must not
            # be blown up on other inputs
            var = var.clamp(min=0.05 * var.median().item() + 1e-6)
            layer.running_mean.copy_(mean + noise * var.sqrt())
            layer.running_var.copy_(var * factor)
        elif bn_stats == "prior":
            layer.running_mean.copy_(noise)
            layer.running_var.copy_(factor)
        else:
            raise ValueError(bn_stats)

    def lin_post(layer, inp, out):
        if id(layer) in done:
            return None
        done.add(id(layer))
        std = out.std().item()
        if std <= 1e-8:
            return None
        layer.weight.mul_(1.0 / std)
        if layer.bias is not None:
            layer.bias.mul_(1.0 / std)
        return out / std

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            hooks.append(m.register_forward_pre_hook(bn_pre))
        elif isinstance(m, (nn.Conv2d, nn.Linear)):
            hooks.append(m.register_forward_hook(lin_post))
    try:
        model(calib)
    finally:
        for h in hooks:
            h.remove()


# CIFAR-10 channel statistics, to make the "image-like" inputs look like a
# normalized dataset image.
_CIFAR_MEAN = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
_CIFAR_STD = torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)
INPUT_KINDS = ["normal(0,1)", "smooth CIFAR-normalized image", "normal(0,3)",
               "checkerboard + uniform"]


def sample_inputs(seed, n):
    """n inputs of shape 1x3x32x32, cycling through INPUT_KINDS:
    0 standard normal, 1 smooth normalized image, 2 wide normal (std 3,
    drives relu6 / hard-sigmoid / hard-swish into saturation), 3 uniform
    [-0.5, 0.5) plus a +-0.5 checkerboard of 4x4 squares."""
    g = torch.Generator().manual_seed(seed)
    shape = INPUT_SHAPE
    out = []
    for k in range(n):
        kind = k % 4
        if kind == 0:
            x = torch.randn(shape, generator=g)
        elif kind == 1:
            low = torch.rand((1, 3, 6, 6), generator=g)
            img = F.interpolate(low, size=shape[2:], mode="bilinear", align_corners=False)
            img = (img + 0.05 * torch.randn(shape, generator=g)).clamp(0, 1)
            x = (img - _CIFAR_MEAN) / _CIFAR_STD
        elif kind == 2:
            x = 3.0 * torch.randn(shape, generator=g)
        else:
            yy, xx = torch.meshgrid(torch.arange(shape[2]), torch.arange(shape[3]), indexing="ij")
            board = (((yy // 4) + (xx // 4)) % 2).float() * 2 - 1
            x = 0.5 * board + 0.5 * (torch.rand(shape, generator=g) * 2 - 1)
        out.append(x.contiguous().float())
    return out


def calibration_batch(seed, n=128):
    return torch.cat(sample_inputs(seed, n))


def _center_classifier(model, calib, gen):
    """Random-weight CNNs with global pooling give logits with a large
    input-independent part (the pooled features sit near their expectation).
    Rescale the last layer (a Linear, or SqueezeNet's 1x1 conv) so the
    logits' variation *across inputs* has std ~1 on the calibration batch and
    move its bias so the batch-mean logits are small random values: a
    compiler bug that loses the input then shows up in the outputs."""
    last = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    last = last[-1]
    box = {}
    h = last.register_forward_hook(lambda mod, i, o: box.__setitem__("y", o.detach()))
    model(calib)
    h.remove()
    y = box["y"].double()
    b0 = last.bias.double()
    if isinstance(last, nn.Linear):             # y: N x classes
        k = 1.0 / y.std(0).mean().item()
        shift = 0.5 * torch.randn(last.out_features, generator=gen).double()
        center = (y - b0).mean(0)
    else:
        # 1x1 conv classifier followed by ReLU and global pooling
        # (SqueezeNet): center the spatially pooled pre-activation, keep it
        # mostly positive so the ReLU does not zero whole classes.
        pooled = y.mean((2, 3))                 # N x classes
        k = 1.0 / pooled.std(0).mean().item()
        shift = 1.0 + 0.5 * torch.rand(last.out_channels, generator=gen).double()
        center = (y - b0.view(1, -1, 1, 1)).mean((0, 2, 3))
    last.weight.mul_(k)
    last.bias.copy_((-(center * k) + shift).float())


@torch.no_grad()
def build(name, bn_stats="data"):
    """Return the named model in eval mode with its deterministic weights.
    bn_stats: "data" (default, see _calibrate) or "prior"."""
    spec = MODELS[name]
    torch.manual_seed(spec["seed"])
    model = spec["build"]()
    model.eval()
    gen = torch.Generator().manual_seed(spec["seed"])
    _randomize(model, gen)
    calib = calibration_batch(spec["seed"] + 1)
    _calibrate(model, calib, gen, bn_stats)
    _center_classifier(model, calib, gen)
    return model


def param_count(model):
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def count_macs(model, x=None):
    """Multiply-accumulates of all Conv2d and Linear layers for one input."""
    if x is None:
        x = torch.zeros(INPUT_SHAPE)
    total = [0]

    def conv_hook(m, i, o):
        total[0] += o.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def lin_hook(m, i, o):
        total[0] += o.numel() * m.in_features

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(lin_hook))
    model(x)
    for h in hooks:
        h.remove()
    return total[0]


if __name__ == "__main__":
    torch.set_num_threads(1)
    for name in MODELS:
        m = build(name)
        x = calibration_batch(12345, 8)
        with torch.no_grad():
            y = m(x)
        print(f"{name:18s} params={param_count(m):7d} MACs={count_macs(m):9d} "
              f"logit std={y.std().item():.3f} across-input std={y.std(0).mean().item():.3f} "
              f"range=[{y.min().item():.2f}, {y.max().item():.2f}] argmax={y.argmax(1).tolist()}")
