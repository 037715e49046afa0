<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>DownloadRow</name>
    <message>
        <source>Waiting…</source>
        <translation>等待中…</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Resuming…</source>
        <translation>正在继续…</translation>
    </message>
    <message>
        <source>, {minutes} min left</source>
        <translation>，剩余 {minutes} 分钟</translation>
    </message>
    <message>
        <source>, {seconds} s left</source>
        <translation>，剩余 {seconds} 秒</translation>
    </message>
    <message>
        <source>{done} of {total} — {speed} MB/s{left}</source>
        <translation>{done} / {total} — {speed} MB/s{left}</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
</context>
<context>
    <name>LibraryWindow</name>
    <message>
        <source>Model library</source>
        <translation>模型库</translation>
    </message>
    <message>
        <source>Installed</source>
        <translation>已安装</translation>
    </message>
    <message>
        <source>Catalog</source>
        <translation>模型目录</translation>
    </message>
    <message>
        <source>Hugging Face</source>
        <translation>Hugging Face</translation>
    </message>
    <message>
        <source>Downloads</source>
        <translation>下载任务</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>格式</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Location</source>
        <translation>位置</translation>
    </message>
    <message>
        <source>Chat with it</source>
        <translation>用它聊天</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Import GGUF file…</source>
        <translation>导入 GGUF 文件…</translation>
    </message>
    <message>
        <source>Import ONNX folder…</source>
        <translation>导入 ONNX 文件夹…</translation>
    </message>
    <message>
        <source>Find models from other apps</source>
        <translation>查找其他应用中的模型</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Params</source>
        <translation>参数量</translation>
    </message>
    <message>
        <source>Quantization</source>
        <translation>量化</translation>
    </message>
    <message>
        <source>Fit here</source>
        <translation>本机适配</translation>
    </message>
    <message>
        <source>Filter by name…</source>
        <translation>按名称筛选…</translation>
    </message>
    <message>
        <source>All formats</source>
        <translation>所有格式</translation>
    </message>
    <message>
        <source>Any fit</source>
        <translation>不限适配</translation>
    </message>
    <message>
        <source>Fits this machine</source>
        <translation>适合本机</translation>
    </message>
    <message>
        <source>Runs on GPU</source>
        <translation>可在 GPU 上运行</translation>
    </message>
    <message>
        <source>Any size</source>
        <translation>不限大小</translation>
    </message>
    <message>
        <source>Under 1 GB</source>
        <translation>1 GB 以下</translation>
    </message>
    <message>
        <source>Under 3 GB</source>
        <translation>3 GB 以下</translation>
    </message>
    <message>
        <source>Under 5 GB</source>
        <translation>5 GB 以下</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>Search GGUF and ONNX repositories on Hugging Face…</source>
        <translation>在 Hugging Face 上搜索 GGUF 和 ONNX 仓库…</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>Repository</source>
        <translation>仓库</translation>
    </message>
    <message>
        <source>Formats</source>
        <translation>格式</translation>
    </message>
    <message>
        <source>Downloads</source>
        <comment>column: how often a repository was downloaded</comment>
        <translation>下载量</translation>
    </message>
    <message>
        <source>Gated</source>
        <translation>访问受限</translation>
    </message>
    <message>
        <source>Download selected file or folder</source>
        <translation>下载所选文件或文件夹</translation>
    </message>
    <message>
        <source>Quantizations in this repository</source>
        <translation>此仓库中的量化版本</translation>
    </message>
    <message>
        <source>{count} catalog entries were skipped as malformed.</source>
        <translation>已跳过 {count} 个格式有误的目录条目。</translation>
    </message>
    <message>
        <source>yes: accept the licence on its page and set a token in Settings</source>
        <translation>是：请在其页面上接受许可协议，并在“设置”中填写访问令牌</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>{count} tokens</source>
        <translation>{count} 个 token</translation>
    </message>
    <message>
        <source>Fit:</source>
        <translation>适配：</translation>
    </message>
    <message>
        <source>Parameters:</source>
        <translation>参数量：</translation>
    </message>
    <message>
        <source>Context:</source>
        <translation>上下文：</translation>
    </message>
    <message>
        <source>Format:</source>
        <translation>格式：</translation>
    </message>
    <message>
        <source>Size:</source>
        <translation>大小：</translation>
    </message>
    <message>
        <source>Licence:</source>
        <translation>许可证：</translation>
    </message>
    <message>
        <source>Gated:</source>
        <translation>访问受限：</translation>
    </message>
    <message>
        <source>From:</source>
        <translation>来源：</translation>
    </message>
    <message>
        <source>Its files will be deleted.</source>
        <translation>其文件将被删除。</translation>
    </message>
    <message>
        <source>Its files stay where they are.</source>
        <translation>其文件将保留在原处。</translation>
    </message>
    <message>
        <source>Remove {name}? {what}</source>
        <translation>要移除 {name} 吗？{what}</translation>
    </message>
    <message>
        <source>Remove model</source>
        <translation>移除模型</translation>
    </message>
    <message>
        <source>Imported {name} (left where it is).</source>
        <translation>已导入 {name}（文件保留在原处）。</translation>
    </message>
    <message>
        <source>Import an ONNX GenAI folder</source>
        <translation>导入 ONNX GenAI 文件夹</translation>
    </message>
    <message>
        <source>Import a GGUF file</source>
        <translation>导入 GGUF 文件</translation>
    </message>
    <message>
        <source>Skipped {path}: {error}</source>
        <translation>已跳过 {path}：{error}</translation>
    </message>
    <message>
        <source>Found {count} model(s) from other apps; listed without copying.</source>
        <translation>在其他应用中找到 {count} 个模型；已列出，未复制文件。</translation>
    </message>
    <message>
        <source>No models from other apps were found.</source>
        <translation>未在其他应用中找到模型。</translation>
    </message>
    <message>
        <source>{title} is already installed.</source>
        <translation>{title} 已安装。</translation>
    </message>
    <message>
        <source>Paused in an earlier session. What arrived is kept: Resume.</source>
        <translation>已在上次运行时暂停。已下载的部分会保留：点击“继续”即可。</translation>
    </message>
    <message>
        <source>Searching…</source>
        <translation>正在搜索…</translation>
    </message>
    <message>
        <source>{count} repositories found.</source>
        <translation>找到 {count} 个仓库。</translation>
    </message>
    <message>
        <source>(top folder)</source>
        <translation>（顶层文件夹）</translation>
    </message>
    <message>
        <source>{repo} has no GGUF file or ONNX GenAI folder.</source>
        <translation>{repo} 中没有 GGUF 文件或 ONNX GenAI 文件夹。</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在开始…</translation>
    </message>
    <message>
        <source>Installed and verified: {path}</source>
        <translation>已安装并校验：{path}</translation>
    </message>
</context>
<context>
    <name>MarkdownView</name>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
</context>
<context>
    <name>SearchPanel</name>
    <message>
        <source>You</source>
        <translation>你</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>助手</translation>
    </message>
    <message>
        <source>System</source>
        <translation>系统</translation>
    </message>
    <message>
        <source>Search all chats (Ctrl+F)</source>
        <translation>搜索所有聊天（Ctrl+F）</translation>
    </message>
    <message>
        <source>{count} matches (newest first; showing 50)</source>
        <translation>{count} 条结果（最新的在前，仅显示 50 条）</translation>
    </message>
    <message>
        <source>1 match</source>
        <translation>1 条结果</translation>
    </message>
    <message>
        <source>{count} matches</source>
        <translation>{count} 条结果</translation>
    </message>
</context>
</TS>
