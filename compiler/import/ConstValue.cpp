#include "import/ConstValue.h"

#include "Diagnostics.h"
#include "ir/OpRules.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>

namespace odlc {

namespace {

using onnx::TensorProto;

/// Element size in raw_data, and whether the type is a float type.
bool elementInfo(int type, size_t &bytes, bool &isFloat) {
  switch (type) {
  case TensorProto::FLOAT: bytes = 4; isFloat = true; return true;
  case TensorProto::DOUBLE: bytes = 8; isFloat = true; return true;
  case TensorProto::FLOAT16: bytes = 2; isFloat = true; return true;
  case TensorProto::INT64: bytes = 8; isFloat = false; return true;
  case TensorProto::INT32: bytes = 4; isFloat = false; return true;
  case TensorProto::INT16: bytes = 2; isFloat = false; return true;
  case TensorProto::INT8: bytes = 1; isFloat = false; return true;
  case TensorProto::UINT8: bytes = 1; isFloat = false; return true;
  case TensorProto::UINT16: bytes = 2; isFloat = false; return true;
  case TensorProto::UINT32: bytes = 4; isFloat = false; return true;
  case TensorProto::UINT64: bytes = 8; isFloat = false; return true;
  case TensorProto::BOOL: bytes = 1; isFloat = false; return true;
  default: return false;
  }
}

double halfToDouble(uint16_t h) {
  int exponent = (h >> 10) & 0x1f;
  int mantissa = h & 0x3ff;
  double sign = (h & 0x8000) ? -1.0 : 1.0;
  if (exponent == 0)
    return sign * std::ldexp(mantissa, -24);
  if (exponent == 31)
    return mantissa ? NAN : sign * INFINITY;
  return sign * std::ldexp(mantissa + 1024, exponent - 25);
}

template <typename T> double readRaw(const char *p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return double(value);
}

double decodeRawElement(int type, const char *p) {
  switch (type) {
  case TensorProto::FLOAT: return readRaw<float>(p);
  case TensorProto::DOUBLE: return readRaw<double>(p);
  case TensorProto::FLOAT16: return halfToDouble(uint16_t(readRaw<uint16_t>(p)));
  case TensorProto::INT64: return readRaw<int64_t>(p);
  case TensorProto::INT32: return readRaw<int32_t>(p);
  case TensorProto::INT16: return readRaw<int16_t>(p);
  case TensorProto::INT8: return readRaw<int8_t>(p);
  case TensorProto::UINT8: return readRaw<uint8_t>(p);
  case TensorProto::UINT16: return readRaw<uint16_t>(p);
  case TensorProto::UINT32: return readRaw<uint32_t>(p);
  case TensorProto::UINT64: return readRaw<uint64_t>(p);
  default: return readRaw<uint8_t>(p) != 0 ? 1.0 : 0.0;
  }
}

std::vector<double> decodeTyped(const TensorProto &t) {
  std::vector<double> v;
  switch (t.data_type()) {
  case TensorProto::FLOAT:
    v.assign(t.float_data().begin(), t.float_data().end());
    break;
  case TensorProto::DOUBLE:
    v.assign(t.double_data().begin(), t.double_data().end());
    break;
  case TensorProto::INT64:
    for (int64_t x : t.int64_data())
      v.push_back(double(x));
    break;
  case TensorProto::UINT32:
  case TensorProto::UINT64:
    for (uint64_t x : t.uint64_data())
      v.push_back(double(x));
    break;
  case TensorProto::FLOAT16:
    for (int32_t x : t.int32_data())
      v.push_back(halfToDouble(uint16_t(x)));
    break;
  default: // int32, int16, int8, uint8, uint16, bool all travel in int32_data
    for (int32_t x : t.int32_data())
      v.push_back(double(x));
    break;
  }
  return v;
}

} // namespace

int64_t toInt64(double value) {
  if (std::isnan(value))
    return 0;
  if (value >= 9.2233720368547758e18)
    return INT64_MAX;
  if (value <= -9.2233720368547758e18)
    return INT64_MIN;
  return int64_t(value);
}

std::string onnxTypeName(int64_t type) {
  if (type < INT32_MIN || type > INT32_MAX || !onnx::TensorProto_DataType_IsValid(int(type)))
    return std::to_string(type);
  return onnx::TensorProto_DataType_Name(onnx::TensorProto_DataType(type));
}

ConstValue decodeTensor(const TensorProto &t, const std::string &where) {
  if (t.data_location() == TensorProto::EXTERNAL || t.external_data_size() > 0)
    unsupported("{}: tensor '{}' keeps its data in an external file; save the model with the "
                "weights inside (onnx.save_model(..., save_as_external_data=False))",
                where, t.name());
  ConstValue value;
  size_t bytes = 0;
  if (!elementInfo(t.data_type(), bytes, value.isFloat))
    unsupported("{}: tensor '{}' has ONNX element type {}, which odlc does not read", where,
                t.name(), onnxTypeName(t.data_type()));
  for (int64_t dim : t.dims()) {
    if (dim < 0)
      fail("{}: tensor '{}' has a negative dimension", where, t.name());
    value.shape.push_back(dim);
  }
  int64_t count = numElements(value.shape);
  if (t.has_raw_data()) {
    const std::string &raw = t.raw_data();
    if (raw.size() != size_t(count) * bytes)
      fail("{}: tensor '{}' holds {} bytes for shape {} (truncated or corrupt model)", where,
           t.name(), raw.size(), formatShape(value.shape));
    value.values.resize(size_t(count));
    for (int64_t i = 0; i < count; ++i)
      value.values[size_t(i)] = decodeRawElement(t.data_type(), raw.data() + size_t(i) * bytes);
    return value;
  }
  value.values = decodeTyped(t);
  if (int64_t(value.values.size()) != count)
    fail("{}: tensor '{}' holds {} values for shape {} (truncated or corrupt model)", where,
         t.name(), value.values.size(), formatShape(value.shape));
  return value;
}

void storeConst(Tensor &tensor, const ConstValue &value) {
  tensor.kind = TensorKind::Constant;
  tensor.shape = value.shape;
  tensor.floats.clear();
  tensor.ints.clear();
  tensor.dtype = value.isFloat ? DType::F32 : DType::I64;
  for (double v : value.values) {
    if (value.isFloat)
      tensor.floats.push_back(float(v));
    else
      tensor.ints.push_back(toInt64(v));
  }
}

ConstValue loadConst(const Tensor &tensor) {
  ODLC_ASSERT(tensor.isConstant(), "'{}' is not a constant", tensor.name);
  ConstValue value;
  value.isFloat = tensor.dtype == DType::F32;
  value.shape = tensor.shape;
  if (value.isFloat)
    value.values.assign(tensor.floats.begin(), tensor.floats.end());
  else
    for (int64_t v : tensor.ints)
      value.values.push_back(double(v));
  return value;
}

} // namespace odlc
