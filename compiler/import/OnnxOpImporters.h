/// \file Declarations of the per-op importers; the table mapping ONNX op types to them is in
/// OnnxOpTable.cpp.
#pragma once

#include "import/NodeImporter.h"

namespace odlc {

// Windowed ops (ImportWindowOps.cpp)
void importConv(NodeImporter &n);
void importMaxPool(NodeImporter &n);
void importAveragePool(NodeImporter &n);
// Linear, elementwise and normalization ops (ImportMathOps.cpp)
void importGemm(NodeImporter &n);
void importMatMul(NodeImporter &n);
void importUnary(NodeImporter &n);
void importClip(NodeImporter &n);
void importBinary(NodeImporter &n);
void importBatchNorm(NodeImporter &n);
void importGlobalAveragePool(NodeImporter &n);
void importSoftmax(NodeImporter &n);
void importReduceMean(NodeImporter &n);
// Shape and data-movement ops (ImportShapeOps.cpp)
void importFlatten(NodeImporter &n);
void importReshape(NodeImporter &n);
void importSqueeze(NodeImporter &n);
void importUnsqueeze(NodeImporter &n);
void importTranspose(NodeImporter &n);
void importConcat(NodeImporter &n);
void importSplit(NodeImporter &n);
void importSlice(NodeImporter &n);
void importGather(NodeImporter &n);
void importPad(NodeImporter &n);
void importIdentity(NodeImporter &n);
void importDropout(NodeImporter &n);
// Compile-time only ops (ImportConstOps.cpp)
void importConstant(NodeImporter &n);
void importShape(NodeImporter &n);
void importSize(NodeImporter &n);
void importCast(NodeImporter &n);
void importConstantOfShape(NodeImporter &n);
void importRange(NodeImporter &n);
void importCompare(NodeImporter &n);
void importWhere(NodeImporter &n);
void importNot(NodeImporter &n);
void importRounding(NodeImporter &n);
void importExpand(NodeImporter &n);

} // namespace odlc
