/// \file Compile-time values: ONNX tensors decoded from protobuf, held exactly while the importer
/// folds shape and constant subgraphs.
#pragma once

#include "ir/Graph.h"

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

namespace odlc {

/// A constant of any ONNX numeric type. Values are held as double: exact for f32 data and for
/// every integer a shape computation produces.
struct ConstValue {
  bool isFloat = true; ///< f32/f16/f64 in ONNX; otherwise an integer or bool type
  Shape shape;
  std::vector<double> values;

  int64_t elements() const { return int64_t(values.size()); }
};

/// An integer constant as int64, saturating: doubles hold INT64_MAX-style sentinels (Slice ends)
/// only approximately, and converting an out-of-range double is undefined.
int64_t toInt64(double value);

/// Decodes an initializer or Constant attribute. Throws a diagnostic for external data, unknown
/// element types and payloads whose size does not match the shape (a truncated model).
ConstValue decodeTensor(const onnx::TensorProto &proto, const std::string &where);

/// `FLOAT16` for ONNX element type 10; the number itself when it names no type.
std::string onnxTypeName(int64_t type);

/// Writes a value into an IR tensor (f32 data or i64 data).
void storeConst(Tensor &tensor, const ConstValue &value);
/// Reads an IR constant back.
ConstValue loadConst(const Tensor &tensor);

} // namespace odlc
