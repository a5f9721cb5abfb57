#!/usr/bin/python3
"""Trains the example model: a small CNN on Fashion-MNIST classes 0-5 (Debian's
dataset-fashion-mnist), exported to model.onnx with 10 outputs so classes 6-9 can be learned
on the device later. Deterministic: same command, same weights.

    /usr/bin/python3 examples/fashion_mnist/train.py [--out examples/fashion_mnist/model.onnx]
"""
import argparse
import gzip
import os

import numpy as np
import torch
import torch.nn as nn

DATA = "/usr/share/datasets/fashion-mnist"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST pixel statistics, also used by the firmware


def load(split):
    prefix = "train" if split == "train" else "t10k"
    with gzip.open(os.path.join(DATA, f"{prefix}-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(os.path.join(DATA, f"{prefix}-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    x = (images.astype(np.float32) / 255.0 - MEAN) / STD
    return torch.from_numpy(x), torch.from_numpy(labels.astype(np.int64))


class SmallCnn(nn.Module):
    """conv-bn-relu x3 with max pooling, global average pooling, linear classifier."""

    def __init__(self, classes=10):
        super().__init__()
        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                                 nn.BatchNorm2d(cout), nn.ReLU())
        self.features = nn.Sequential(block(1, 16), nn.MaxPool2d(2), block(16, 32),
                                      nn.MaxPool2d(2), block(32, 48), block(48, 64))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(64, classes)

    def forward(self, x):
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "model.onnx"))
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    x, y = load("train")
    keep = y < 6
    x, y = x[keep], y[keep]
    model = SmallCnn()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(epoch))
        for i in range(0, len(x), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        tx, ty = load("test")
        keep = ty < 6
        model.eval()
        with torch.no_grad():
            acc = (model(tx[keep]).argmax(1) == ty[keep]).float().mean().item()
        print(f"epoch {epoch}: loss {loss.item():.3f}, test accuracy on classes 0-5 {acc:.4f}")

    model.eval()
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), args.out, opset_version=13,
                      input_names=["image"], output_names=["logits"])
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
