// Reads sampleINT8's batches/batchN files (four int32 {N,C,H,W}, N*C*H*W floats, N float labels)
// and assembles batches of any size across file boundaries, as TensorRT 5's BatchStream did.
#ifndef INFER8_SAMPLE_BATCHSTREAM_H
#define INFER8_SAMPLE_BATCHSTREAM_H

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

class BatchStream
{
public:
    BatchStream(int batchSize, int maxBatches, std::string prefix)
        : mBatchSize(batchSize), mMaxBatches(maxBatches), mPrefix(std::move(prefix))
    {
        reset(0);
    }

    // Rewinds and skips `firstBatch` batches.
    void reset(int firstBatch)
    {
        mBatchCount = 0;
        mFileCount = 0;
        mFileBatchPos = 0;
        mFileDims[0] = 0;
        skip(firstBatch);
    }

    bool next()
    {
        if (mBatchCount == mMaxBatches)
            return false;
        if (!readDims())
            return false;
        const size_t imageSize = static_cast<size_t>(mFileDims[1]) * mFileDims[2] * mFileDims[3];
        mBatch.assign(imageSize * mBatchSize, 0.f);
        mLabels.assign(mBatchSize, 0.f);
        for (int done = 0; done < mBatchSize;)
        {
            if (mFileBatchPos == mFileDims[0] && !update())
                return false;
            const int n = std::min(mFileDims[0] - mFileBatchPos, mBatchSize - done);
            std::copy(mFileData.begin() + mFileBatchPos * imageSize,
                      mFileData.begin() + (mFileBatchPos + n) * imageSize, mBatch.begin() + done * imageSize);
            std::copy(mFileLabels.begin() + mFileBatchPos, mFileLabels.begin() + mFileBatchPos + n,
                      mLabels.begin() + done);
            mFileBatchPos += n;
            done += n;
        }
        mBatchCount++;
        return true;
    }

    void skip(int count)
    {
        for (int i = 0; i < count; i++)
            if (!next())
                break;
        mBatchCount = 0;
    }

    const float* getBatch() const { return mBatch.data(); }
    const float* getLabels() const { return mLabels.data(); }
    int getBatchesRead() const { return mBatchCount; }
    int getBatchSize() const { return mBatchSize; }
    // {N, C, H, W} of one batch.
    bool getDims(int dims[4])
    {
        if (!readDims())
            return false;
        dims[0] = mBatchSize;
        for (int i = 1; i < 4; i++)
            dims[i] = mFileDims[i];
        return true;
    }

private:
    bool readDims()
    {
        return mFileDims[0] != 0 || update();
    }

    bool update()
    {
        const std::string name = mPrefix + std::to_string(mFileCount++);
        FILE* f = std::fopen(name.c_str(), "rb");
        if (!f)
            return false;
        int32_t d[4];
        bool ok = std::fread(d, sizeof(int32_t), 4, f) == 4 && d[0] > 0 && d[1] > 0 && d[2] > 0 && d[3] > 0;
        if (ok)
        {
            const size_t count = static_cast<size_t>(d[0]) * d[1] * d[2] * d[3];
            mFileData.resize(count);
            mFileLabels.assign(d[0], 0.f);
            ok = std::fread(mFileData.data(), sizeof(float), count, f) == count;
            const size_t labels = std::fread(mFileLabels.data(), sizeof(float), d[0], f);
            ok = ok && (labels == 0 || labels == static_cast<size_t>(d[0]));
        }
        std::fclose(f);
        if (!ok)
        {
            std::fprintf(stderr, "[E] %s is not a valid batch file\n", name.c_str());
            return false;
        }
        for (int i = 0; i < 4; i++)
            mFileDims[i] = d[i];
        mFileBatchPos = 0;
        return true;
    }

    int mBatchSize;
    int mMaxBatches;
    std::string mPrefix;
    int mBatchCount{0};
    int mFileCount{0};
    int mFileBatchPos{0};
    int mFileDims[4]{0, 0, 0, 0};
    std::vector<float> mBatch, mLabels, mFileData, mFileLabels;
};

#endif
